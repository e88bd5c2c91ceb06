// expect: node-builtin-import 3:28
import http from 'k6/http'
export { setTimeout } from 'node:timers/promises'
export default function () {}
