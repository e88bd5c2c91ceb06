// expect: node-builtin-import 3:1
import http from 'k6/http'
import fs from 'fs'
export default function () {}
