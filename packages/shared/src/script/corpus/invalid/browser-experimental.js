// expect: browser-unsupported 3:25
import http from 'k6/http'
import { browser } from 'k6/experimental/browser'
export default async function () {}
