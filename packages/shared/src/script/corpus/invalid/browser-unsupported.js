// expect: browser-unsupported 2:25
import { browser } from 'k6/browser'
export const options = { scenarios: { ui: { executor: 'shared-iterations', options: { browser: { type: 'chromium' } } } } }
export default async function () {
  const page = await browser.newPage()
  await page.close()
}
