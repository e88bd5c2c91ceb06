// expect: no-default-export 3:1
import http from 'k6/http'
export function main() {
  http.get('http://x')
}
