// expect: node-builtin-import 3:12
import http from 'k6/http'
const os = require('os')
export default function () {}
