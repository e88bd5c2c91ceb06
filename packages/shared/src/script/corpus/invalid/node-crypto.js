// expect: node-builtin-import 3:28
import http from 'k6/http'
import { createHash } from 'crypto'
export default function () {}
