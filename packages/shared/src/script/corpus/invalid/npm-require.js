// expect: npm-package-import 4:24
import http from 'k6/http'
export default function () {
  const chai = require('chai')
}
