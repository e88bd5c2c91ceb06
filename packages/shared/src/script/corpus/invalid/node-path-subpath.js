// expect: node-builtin-import 3:22
import http from 'k6/http'
import { join } from 'path/posix'
export default function () {}
