/**
 * SVG → PNG through resvg (the Rust SVG renderer, as the npm package @resvg/resvg-js with its
 * prebuilt platform binary). Loaded only when a PNG is asked for: it is a native module.
 */
export async function svgToPng(svg: string): Promise<Uint8Array> {
  let Resvg: typeof import('@resvg/resvg-js').Resvg;
  try {
    ({ Resvg } = await import('@resvg/resvg-js'));
  } catch (e) {
    throw new Error(`--png needs the package @resvg/resvg-js and its binary for this platform (npm install): ${(e as Error).message.split('\n')[0]}`);
  }
  const png = new Resvg(svg, {
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans Mono', monospaceFamily: 'DejaVu Sans Mono' },
  })
    .render()
    .asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
