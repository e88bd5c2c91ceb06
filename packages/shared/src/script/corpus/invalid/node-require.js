// expect: node-builtin-import 3:20
import http from 'k6/http'
const os = require('os')
export default function () {}
