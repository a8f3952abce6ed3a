import { escapeHtml } from '../rewrite/merge-tags.ts';

/**
 * GET /demo: a pretend shop with the widget embedded exactly as a customer would embed it
 * (queue snippet + one async script tag), so the whole walk runs on one machine: send
 * yourself a message whose link points here, click it, and the widget greets you.
 */
export function demoPage(publicUrl: string): string {
  const src = escapeHtml(`${publicUrl}/widget.js`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Northwind Coffee · Clicktrail demo shop</title>
<style>
  body { margin: 0; font: 16px/1.5 Georgia, 'Times New Roman', serif; color: #2b2118; background: #faf6f0; }
  header { padding: 20px 24px; border-bottom: 1px solid #e6dccd; display: flex; justify-content: space-between; align-items: center; flex-wrap: wrap; gap: 8px; }
  header strong { font-size: 22px; letter-spacing: .02em; }
  nav a { color: inherit; margin-left: 16px; }
  main { max-width: 960px; margin: 0 auto; padding: 24px; }
  .hero { padding: 32px 0 16px; }
  .hero h1 { font-size: 36px; margin: 0 0 8px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 20px; margin: 24px 0; }
  .card { background: #fff; border: 1px solid #e6dccd; border-radius: 10px; padding: 16px; }
  .card .swatch { height: 110px; border-radius: 6px; margin-bottom: 12px; }
  .card button { font: inherit; padding: 8px 14px; border-radius: 6px; border: 0; background: #6b3f1d; color: #fff; cursor: pointer; }
  .note { font: 14px/1.5 system-ui, sans-serif; color: #5b4c3d; background: #f1e8da; border-radius: 8px; padding: 12px 16px; }
</style>
<script>
  // The queue snippet: calls made before widget.js loads are kept and replayed by it.
  window.Clicktrail = window.Clicktrail || function () { (window.Clicktrail.q = window.Clicktrail.q || []).push(arguments); };
</script>
<script async src="${src}" data-app="demo"></script>
</head>
<body>
<header><strong>Northwind Coffee</strong><nav><a href="#beans">Beans</a><a href="#gear">Gear</a><a href="#about">About</a></nav></header>
<main>
  <section class="hero">
    <h1>Freshly roasted, every Monday.</h1>
    <p>Single-origin beans from small farms, roasted in small batches and shipped the same day.</p>
  </section>
  <section class="grid" id="beans">
    <div class="card"><div class="swatch" style="background:#8a5a35"></div><h3>Ethiopia Guji</h3><p>Peach, jasmine, bergamot.</p><button type="button" data-track="added_to_cart">Add to cart · €14</button></div>
    <div class="card"><div class="swatch" style="background:#5c3b22"></div><h3>Colombia Huila</h3><p>Red apple, caramel, cocoa.</p><button type="button" data-track="added_to_cart">Add to cart · €12</button></div>
    <div class="card"><div class="swatch" style="background:#3e2716"></div><h3>Sumatra Kerinci</h3><p>Cedar, dark chocolate, spice.</p><button type="button" data-track="added_to_cart">Add to cart · €13</button></div>
  </section>
  <p class="note" id="about">This is Clicktrail's demo shop. Send yourself a message whose link points to this page,
  click the tracked link, and the Messenger in the corner greets you by name. Replies posted with
  <code>POST /api/conversations/:id/replies</code> appear here live. The buttons call <code>Clicktrail('track', 'added_to_cart')</code>.</p>
</main>
<script>
  document.addEventListener('click', function (e) {
    var name = e.target && e.target.getAttribute && e.target.getAttribute('data-track');
    if (name) Clicktrail('track', name);
  });
</script>
</body>
</html>`;
}
