// expect: node-builtin-import 3:16
import http from 'k6/http'
import fs from 'fs'
export default function () {}
