// expect: node-builtin-import 4:16
import http from 'k6/http'
export default async function () {
  await import('node:child_process')
}
