// expect: no-k6-import 1:1
import axios from 'axios'
export default async function () {
  await axios.get('http://x')
}
