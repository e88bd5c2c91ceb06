// expect: syntax-error 5:3
import http from 'k6/http'
export default function () {
  http.get('http://x'
  http.get('http://y')
}
