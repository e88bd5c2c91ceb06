// expect: npm-package-import 3:15
import http from 'k6/http'
import _ from 'lodash'
export default function () {}
