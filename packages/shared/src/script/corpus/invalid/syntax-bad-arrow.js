// expect: syntax-error 4:24
import http from 'k6/http'
export default () => {
  const x = { a: 1, b: }
}
