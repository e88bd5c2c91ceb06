// expect: playwright-import 2:30
import { test, expect } from '@playwright/test'
import http from 'k6/http'
export default function () {}
