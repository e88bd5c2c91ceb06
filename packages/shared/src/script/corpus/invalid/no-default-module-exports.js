// expect: no-default-export 3:1
import http from 'k6/http'
module.exports = function () {
  http.get('http://x')
}
