// expect: open-escapes-folder 3:19
import http from 'k6/http'
const data = open('../secrets/users.json')
export default function () {}
