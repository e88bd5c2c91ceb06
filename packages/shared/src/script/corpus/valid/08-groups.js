import http from 'k6/http'
import { group } from 'k6'

export const options = { iterations: 1, thresholds: { 'group_duration{group:::login}': ['max<5000'] } }

export default function () {
  group('login', () => {
    http.get('__TARGET__/login')
    group('nested', function () {
      http.get('__TARGET__/nested')
    })
  })
  group('browse', () => http.get('__TARGET__/browse'))
}
