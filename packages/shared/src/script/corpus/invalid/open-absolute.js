// expect: open-absolute-path 3:19
import http from 'k6/http'
const data = open('/etc/passwd')
export default function () {}
