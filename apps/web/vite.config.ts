import { sveltekit } from '@sveltejs/kit/vite'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [sveltekit()],
  // The playground's chunk carries CodeMirror and the k6 API digest (~550 kB, ~180 kB gzipped);
  // only /playground loads it, so the default 500 kB warning says nothing useful here.
  build: { chunkSizeWarningLimit: 600 },
  server: { host: '127.0.0.1', port: 3000, strictPort: true },
  preview: { host: '127.0.0.1', port: 3000, strictPort: true },
})
