// expect: open-absolute-path 3:19
import http from 'k6/http'
const data = open('C:\\data\\users.json')
export default function () {}
