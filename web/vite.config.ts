import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies the API to a Tollgate on :9090.
export default defineConfig({
  plugins: [react()],
  build: {
    manifest: true,
    // Keep every script in its own file: the CSP allows no inline script.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:9090' },
  },
});
