// expect: node-builtin-import 4:18
import { check } from 'k6'
// The Node http module is not k6/http.
import http from 'http'
export default function () {}
