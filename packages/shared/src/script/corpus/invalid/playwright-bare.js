// expect: playwright-import 3:26
import http from 'k6/http'
import { chromium } from 'playwright'
export default async function () {}
