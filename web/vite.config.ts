import { defineConfig } from 'vite'
import { fileURLToPath } from 'node:url'

// React without @vitejs/plugin-react: esbuild compiles JSX (automatic runtime); no fast refresh.
const root = fileURLToPath(new URL('.', import.meta.url))
export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'react' },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000, sourcemap: false },
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] }, proxy: { '/api': 'http://127.0.0.1:8787' } },
})
