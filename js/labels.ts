/**
 * Drawing label layers (WebGL2): exact ids, coloured once per screen pixel.
 *
 * A label layer is drawn in two steps, so that ids are never blended and
 * outlines are measured on the screen:
 *
 * 1. its tiles (coarse under fine, in the level-of-detail order) are copied
 *    texel for texel into an RGBA8 *id framebuffer* the size of the canvas:
 *    NEAREST, no filtering, no blending, so every device pixel holds the
 *    exact id bytes of the one texel under its centre (zoomed out: the label
 *    pyramid's own coarser level, written by mode or nearest; never a mean
 *    of ids). Cleared to id 0.
 * 2. a full-screen pass reads that framebuffer at each device pixel and
 *    colours it (js/labelcolors.ts: id 0 transparent, the `image-label`
 *    colour found by binary search in the layer's table texture, else the
 *    hashed palette), then blends it over the canvas with the layer's
 *    opacity. In outline mode a pixel is drawn only where one of its four
 *    neighbours `t` device pixels away (t = round(dpr), at least 1) holds
 *    another id: boundaries stay 1-2 CSS pixels wide at any zoom.
 */

import { QUAD_VERTEX, linkProgram } from "./glprogram";
import { MAX_LABEL_COLORS, labelTable } from "./labelcolors";

/** One label tile quad: its texture and clip-space rectangle. */
export interface LabelItem {
  texture: WebGLTexture;
  clip: [number, number, number, number];
  shape: [number, number];
}

/** How a label layer is coloured. */
export interface LabelStyle {
  opacity: number;
  outline: boolean;
  /** Outline reach in device pixels. */
  thickness: number;
  /** The layer's `image-label` colours, [id, "#rrggbbaa"]. */
  colors: readonly [number, string][];
}

// Step 1: the texel under the pixel's centre, bytes unchanged.
const IDS_FRAGMENT = `#version 300 es
precision highp float;
precision highp int;
uniform sampler2D u_tile;
uniform ivec2 u_size;
in vec2 v_uv;
out vec4 color;
void main() {
  color = texelFetch(u_tile, clamp(ivec2(floor(v_uv * vec2(u_size))), ivec2(0), u_size - 1), 0);
}`;

const SCREEN_VERTEX = `#version 300 es
in vec2 a_unit;
void main() {
  gl_Position = vec4(2.0 * a_unit - 1.0, 0.0, 1.0);
}`;

// Step 2: colour each device pixel from its id (see labelcolors.ts for the same arithmetic).
const COLOR_FRAGMENT = `#version 300 es
precision highp float;
precision highp int;
uniform sampler2D u_ids;
uniform sampler2D u_table;
uniform int u_count;
uniform float u_opacity;
uniform int u_outline;
uniform int u_thickness;
out vec4 color;
uint idAt(ivec2 p) {
  ivec2 size = textureSize(u_ids, 0);
  uvec4 b = uvec4(floor(texelFetch(u_ids, clamp(p, ivec2(0), size - 1), 0) * 255.0 + 0.5));
  return b.r | (b.g << 8) | (b.b << 16) | ((255u - b.a) << 24);
}
uint tableId(int i) {
  uvec4 b = uvec4(floor(texelFetch(u_table, ivec2(0, i), 0) * 255.0 + 0.5));
  return b.r | (b.g << 8) | (b.b << 16) | ((255u - b.a) << 24);
}
vec3 hsv(float h, float s, float v) {
  vec3 k = mod(vec3(5.0, 3.0, 1.0) + h * 6.0, 6.0);
  return v - v * s * clamp(min(k, 4.0 - k), 0.0, 1.0);
}
void main() {
  ivec2 p = ivec2(gl_FragCoord.xy);
  uint id = idAt(p);
  if (id == 0u) discard;
  if (u_outline == 1) {
    int t = u_thickness;
    if (idAt(p + ivec2(t, 0)) == id && idAt(p - ivec2(t, 0)) == id &&
        idAt(p + ivec2(0, t)) == id && idAt(p - ivec2(0, t)) == id) discard;
  }
  int lo = 0;
  int hi = u_count - 1;
  for (int step = 0; step < 12; step++) {
    if (lo > hi) break;
    int mid = (lo + hi) / 2;
    uint m = tableId(mid);
    if (m == id) {
      vec4 c = texelFetch(u_table, ivec2(1, mid), 0);
      color = vec4(c.rgb, c.a * u_opacity);
      return;
    }
    if (m < id) lo = mid + 1; else hi = mid - 1;
  }
  uint h = id * 2654435761u;
  float hue = float(h >> 26) / 64.0;
  uint shade = (h >> 24) & 3u;
  vec3 rgb = hsv(hue, 0.55 + 0.15 * float(shade & 1u), 1.0 - 0.15 * float(shade >> 1));
  color = vec4(floor(rgb * 255.0 + 0.5) / 255.0, u_opacity);
}`;

function nearestTexture(gl: WebGL2RenderingContext): WebGLTexture {
  const tex = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, tex);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
  gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  return tex;
}

export class LabelRenderer {
  private ids: WebGLProgram;
  private colorProgram: WebGLProgram;
  private vao: WebGLVertexArrayObject;
  private buffer: WebGLBuffer;
  private target: { fbo: WebGLFramebuffer; texture: WebGLTexture; width: number; height: number } | null = null;
  /** Per layer: its colour table texture and the colours it was made from. */
  private tables = new Map<number, { texture: WebGLTexture; count: number; key: string }>();

  constructor(private readonly gl: WebGL2RenderingContext) {
    this.ids = linkProgram(gl, QUAD_VERTEX, IDS_FRAGMENT, "LabelRenderer");
    this.colorProgram = linkProgram(gl, SCREEN_VERTEX, COLOR_FRAGMENT, "LabelRenderer");
    this.vao = gl.createVertexArray();
    this.buffer = gl.createBuffer();
    gl.bindVertexArray(this.vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buffer);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0); // a_unit is bound to location 0 in both programs
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    gl.bindVertexArray(null);
  }

  private idTarget(width: number, height: number): WebGLFramebuffer {
    const gl = this.gl;
    if (this.target !== null && this.target.width === width && this.target.height === height) return this.target.fbo;
    if (this.target !== null) {
      gl.deleteFramebuffer(this.target.fbo);
      gl.deleteTexture(this.target.texture);
    }
    const texture = nearestTexture(gl);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    const fbo = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    this.target = { fbo, texture, width, height };
    return fbo;
  }

  private table(layer: number, colors: readonly [number, string][]): { texture: WebGLTexture; count: number } {
    const gl = this.gl;
    const key = JSON.stringify(colors.slice(0, MAX_LABEL_COLORS));
    const known = this.tables.get(layer);
    if (known !== undefined && known.key === key) return known;
    if (known !== undefined) gl.deleteTexture(known.texture);
    const { data, count } = labelTable(colors);
    const texture = nearestTexture(gl);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, 2, Math.max(1, count), 0, gl.RGBA, gl.UNSIGNED_BYTE, data);
    const entry = { texture, count, key };
    this.tables.set(layer, entry);
    return entry;
  }

  /** Draw one label layer's tiles (in draw order) over the canvas (see the module docs). */
  draw(layer: number, items: readonly LabelItem[], style: LabelStyle, width: number, height: number): void {
    const gl = this.gl;
    if (gl.isContextLost() || items.length === 0) return;
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.idTarget(width, height));
    gl.disable(gl.BLEND);
    gl.clearColor(0, 0, 0, 1); // id 0: R = G = B = 0, A = 255
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.useProgram(this.ids);
    gl.bindVertexArray(this.vao);
    gl.activeTexture(gl.TEXTURE0);
    gl.uniform1i(gl.getUniformLocation(this.ids, "u_tile"), 0);
    const clipLoc = gl.getUniformLocation(this.ids, "u_clip");
    const sizeLoc = gl.getUniformLocation(this.ids, "u_size");
    for (const item of items) {
      gl.bindTexture(gl.TEXTURE_2D, item.texture);
      gl.uniform4fv(clipLoc, item.clip);
      gl.uniform2i(sizeLoc, item.shape[1], item.shape[0]);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    }
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    const table = this.table(layer, style.colors);
    const p = this.colorProgram;
    gl.useProgram(p);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.target!.texture);
    gl.uniform1i(gl.getUniformLocation(p, "u_ids"), 0);
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, table.texture);
    gl.uniform1i(gl.getUniformLocation(p, "u_table"), 1);
    gl.uniform1i(gl.getUniformLocation(p, "u_count"), table.count);
    gl.uniform1f(gl.getUniformLocation(p, "u_opacity"), style.opacity);
    gl.uniform1i(gl.getUniformLocation(p, "u_outline"), style.outline ? 1 : 0);
    gl.uniform1i(gl.getUniformLocation(p, "u_thickness"), Math.max(1, Math.round(style.thickness)));
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.disable(gl.BLEND);
    gl.bindVertexArray(null);
    gl.activeTexture(gl.TEXTURE0);
  }

  /** Free every GL resource. */
  dispose(): void {
    const gl = this.gl;
    if (this.target !== null) {
      gl.deleteFramebuffer(this.target.fbo);
      gl.deleteTexture(this.target.texture);
      this.target = null;
    }
    for (const t of this.tables.values()) gl.deleteTexture(t.texture);
    this.tables.clear();
    gl.deleteBuffer(this.buffer);
    gl.deleteVertexArray(this.vao);
    gl.deleteProgram(this.ids);
    gl.deleteProgram(this.colorProgram);
  }
}
