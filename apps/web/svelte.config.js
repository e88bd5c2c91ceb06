// SvelteKit builds a Node server (adapter-node) so one `node build/index.js` serves the UI;
// PORT and HOST are read by the adapter at start-up.
import adapter from '@sveltejs/adapter-node'
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte'

/** @type {import('@sveltejs/kit').Config} */
const config = {
  preprocess: vitePreprocess(),
  kit: {
    adapter: adapter(),
  },
}

export default config
