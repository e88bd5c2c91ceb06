// expect: open-escapes-folder 3:20
import http from 'k6/http'
const image = open('../../img.png', 'b')
export default function () { http.post('http://x', { file: http.file(image) }) }
