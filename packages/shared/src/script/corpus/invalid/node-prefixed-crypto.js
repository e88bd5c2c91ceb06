// expect: node-builtin-import 3:20
import http from 'k6/http'
import crypto from 'node:crypto'
export default function () {}
