// expect: npm-package-import 3:20
import http from 'k6/http'
import { v4 } from 'uuid/dist/esm'
export default function (): void {}
