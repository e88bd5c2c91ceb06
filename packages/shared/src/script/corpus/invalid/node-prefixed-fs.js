// expect: node-builtin-import 3:30
import http from 'k6/http'
import { readFileSync } from 'node:fs'
export default function () {}
