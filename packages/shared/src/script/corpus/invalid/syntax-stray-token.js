// expect: syntax-error 3:27
import http from 'k6/http'
export const options = {} }
export default function () {}
