// expect: no-default-export 7:1
import http from 'k6/http'
export const options = { vus: 1 }
function main() {
  http.get('http://x')
}
main()
