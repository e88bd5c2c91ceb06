// The SvelteKit plugin compiles runes in *.svelte.ts modules and resolves $env/$app imports,
// so state modules are tested as they run in the app.
import { sveltekit } from '@sveltejs/kit/vite'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [sveltekit()],
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
})
