// The UI talks to the API from the browser (the API allows this origin), so pages render on
// the client: the Node server only serves the shell and assets, and never needs the API.
export const ssr = false
export const prerender = false
