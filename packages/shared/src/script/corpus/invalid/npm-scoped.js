// expect: npm-package-import 3:23
import http from 'k6/http'
import { faker } from '@faker-js/faker'
export default function () {}
