// expect: syntax-error 4:15
import http from 'k6/http'
interface A { x: number }
const a: A = {{ x: 1 }
export default function (): void {}
