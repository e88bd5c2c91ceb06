// expect: node-builtin-import 3:1
import http from 'k6/http'
import crypto from 'node:crypto'
export default function () {}
