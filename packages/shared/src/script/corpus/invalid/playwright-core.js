// expect: playwright-import 3:25
import { sleep } from 'k6'
import { firefox } from 'playwright-core'
export default function () {}
