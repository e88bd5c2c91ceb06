// expect: unknown-k6-module 3:17
import http from 'k6/http'
import sql from 'k6/x/sql'
export default function () {}
