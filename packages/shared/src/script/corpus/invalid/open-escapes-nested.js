// expect: open-escapes-folder 4:31
import http from 'k6/http'
import { SharedArray } from 'k6/data'
const users = JSON.parse(open('./data/../../users.json'))
export default function () {}
