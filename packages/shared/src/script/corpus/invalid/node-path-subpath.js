// expect: node-builtin-import 3:1
import http from 'k6/http'
import { join } from 'path/posix'
export default function () {}
