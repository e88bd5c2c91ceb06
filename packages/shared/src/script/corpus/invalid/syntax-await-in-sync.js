// expect: syntax-error 4:3
import http from 'k6/http'
export default function () {
  await http.asyncRequest('GET', 'http://x')
}
