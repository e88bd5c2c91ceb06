// expect: playwright-import 3:1
import http from 'k6/http'
import { chromium } from 'playwright'
export default async function () {}
