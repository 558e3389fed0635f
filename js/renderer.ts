/**
 * WebGL2 renderer: one textured quad per tile, colour applied in the shader.
 *
 * Tiles carry data values packed into 8-bit PNG channels (see
 * docs/architecture.md), so textures are RGBA8 with NEAREST filtering and
 * the fragment shader reads exact bytes with `texelFetch`:
 *
 *     code  = R * wr + G * wg        (u8: wr = 1, wg = 0; u16: wr = 256, wg = 1)
 *     value = value_offset + value_scale * code
 *     t     = clamp((value - lo) / (hi - lo), 0, 1) ^ (1 / gamma)
 *     color = LUT[round(255 t)]
 *
 * Contrast, colormap and gamma are uniforms / a 256 x 1 LUT texture, so
 * changing them is only a redraw.
 *
 * A frame is drawn in passes ({@link Renderer.beginFrame}, then
 * {@link Renderer.drawTiles} per pass, {@link Renderer.drawFailed},
 * {@link Renderer.drawOutlines}):
 *
 * - single channel: the tiles go straight to the canvas through the LUT
 *   (`colormap`, maybe inverted);
 * - composite (channels added, the fluorescence convention): each visible
 *   channel's tiles are drawn into one offscreen framebuffer cleared to black
 *   (coarse tiles under fine ones, as always), each as a black-to-colour ramp
 *   (`color * t`), and that framebuffer is then *added* onto the canvas
 *   (blend ONE, ONE); inside the image the canvas starts black. Drawing a
 *   channel whole before adding it keeps a coarse fallback under a fine tile
 *   from being counted twice. An RGB photo is three channels coloured pure
 *   red, green and blue with windows 0..255: the sum is its exact colour.
 *
 * Layers over layers ({@link Renderer.beginOver} / {@link Renderer.endOver}):
 * an image layer drawn over others is drawn, exactly as above, into an
 * offscreen *layer* framebuffer cleared to transparent (its tiles write
 * alpha 1, channels add), which is then blended over the canvas with the
 * layer's opacity (SRC_ALPHA, ONE_MINUS_SRC_ALPHA): what lies outside the
 * layer's tiles shows through. Label layers are drawn by js/labels.ts.
 *
 * NaN: a `u16` tile marks NaN pixels with B = 255; they are drawn in the
 * `nan` colour, and discarded when it is transparent (what lies under shows).
 *
 * Quad corners are computed on the CPU in clip space (double precision) and
 * passed as a uniform: world coordinates can be large compared with a pixel
 * at high zoom, which float32 in a shader would not resolve.
 *
 * Failed tiles are drawn over the tiles by the same program in a third mode:
 * diagonal stripes of {@link FAILED_COLOR} on whole device pixels, the
 * other stripes discarded so that what lies under shows between them.
 *
 * Tile outlines (`show_tiles`, planned in outlines.ts) are a second tiny
 * program drawn after the tiles: thin quads on whole device pixels, given in
 * device pixels (small integers, exact in float32) in one vertex buffer,
 * one draw call per run of one level's colour.
 */

import { QUAD_VERTEX, linkProgram } from "./glprogram";
import type { OutlinePlan } from "./outlines";
import type { Encoding } from "./protocol";

/** One tile quad to draw. */
export interface DrawItem {
  texture: WebGLTexture;
  /** [x0, y0, x1, y1] in clip space: (x0, y0) is the tile's first pixel corner. */
  clip: [number, number, number, number];
  /** [h, w] texture size in pixels. */
  shape: [number, number];
  encoding: Encoding;
  valueOffset: number;
  valueScale: number;
}

/** How one pass draws its tiles' values. */
export interface Display {
  lo: number;
  hi: number;
  gamma: number;
  /** A black-to-colour ramp [r, g, b] in 0..1 (composite); null: the LUT (single channel). */
  color?: [number, number, number] | null;
  /** NaN pixels' colour [r, g, b, a] in 0..1; alpha 0 (the default) leaves them out. */
  nan?: [number, number, number, number];
}

// Tiles carry packed data values, so the texture is sampled with NEAREST and
// any filtering happens here, on values, before contrast. Magnified (a texel
// covers >= 1 device pixel) each pixel shows its texel, crisp. Minified (the
// level in use is up to 2x finer than the screen; fallback tiles finer still)
// a pixel shows the area-weighted mean of the texels under a box as wide as
// its footprint rounded up to whole texels (at most 4): fine structure fades
// to its mean instead of aliasing into moire.
const FRAGMENT = `#version 300 es
precision highp float;
precision highp int;
uniform sampler2D u_tile;
uniform sampler2D u_lut;
uniform ivec2 u_size;
uniform vec2 u_weights;
uniform float u_offset;
uniform float u_scale;
uniform float u_lo;
uniform float u_hi;
uniform float u_invgamma;
uniform int u_solid;
uniform vec4 u_color;
uniform int u_ramp;
uniform vec3 u_rgb;
uniform vec4 u_nan;
uniform int u_nanflag;
in vec2 v_uv;
out vec4 color;
float valueAt(ivec2 texel) {
  vec4 c = texelFetch(u_tile, clamp(texel, ivec2(0), u_size - 1), 0);
  return u_offset + u_scale * dot(floor(c.rg * 255.0 + 0.5), u_weights);
}
void main() {
  if (u_solid == 1) { color = u_color; return; }
  if (u_solid == 2) {
    // A failed tile: diagonal stripes 6 device pixels wide; between them, what lies under.
    if (mod(floor((gl_FragCoord.x + gl_FragCoord.y) / 6.0), 2.0) != 0.0) discard;
    color = u_color;
    return;
  }
  vec2 uv = v_uv * vec2(u_size);
  vec2 footprint = fwidth(uv);
  if (u_nanflag == 1 && texelFetch(u_tile, clamp(ivec2(floor(uv)), ivec2(0), u_size - 1), 0).b > 0.5) {
    if (u_nan.a == 0.0) discard;
    color = u_nan;
    return;
  }
  float value;
  if (max(footprint.x, footprint.y) <= 1.01) {
    value = valueAt(ivec2(floor(uv)));
  } else {
    vec2 width = clamp(ceil(footprint - 0.01), vec2(1.0), vec2(4.0));
    vec2 a = uv - 0.5 * width;
    vec2 b = uv + 0.5 * width;
    ivec2 first = ivec2(floor(a));
    float sum = 0.0;
    float total = 0.0;
    for (int j = 0; j < 5; j++) {
      float y = float(first.y + j);
      float wy = min(b.y, y + 1.0) - max(a.y, y);
      if (wy <= 0.0) continue;
      for (int i = 0; i < 5; i++) {
        float x = float(first.x + i);
        float wx = min(b.x, x + 1.0) - max(a.x, x);
        if (wx <= 0.0) continue;
        sum += wx * wy * valueAt(ivec2(first.x + i, first.y + j));
        total += wx * wy;
      }
    }
    value = sum / total;
  }
  float t = u_hi > u_lo ? clamp((value - u_lo) / (u_hi - u_lo), 0.0, 1.0) : (value >= u_hi ? 1.0 : 0.0);
  t = t > 0.0 ? pow(t, u_invgamma) : 0.0;
  if (u_ramp == 1) {
    // 8-bit steps, as the LUT has: an RGB channel in pure red with window 0..255 is exact.
    color = vec4(u_rgb * (floor(t * 255.0 + 0.5) / 255.0), 1.0);
    return;
  }
  color = texelFetch(u_lut, ivec2(int(floor(t * 255.0 + 0.5)), 0), 0);
}`;

// Adds the channel framebuffer onto the canvas (blend ONE, ONE).
const COMPOSITE_VERTEX = `#version 300 es
in vec2 a_unit;
out vec2 v_uv;
void main() {
  v_uv = a_unit;
  gl_Position = vec4(2.0 * a_unit - 1.0, 0.0, 1.0);
}`;

const COMPOSITE_FRAGMENT = `#version 300 es
precision highp float;
uniform sampler2D u_layer;
uniform float u_opacity;
out vec4 color;
void main() {
  vec4 c = texelFetch(u_layer, ivec2(gl_FragCoord.xy), 0);
  color = vec4(c.rgb, c.a * u_opacity);
}`;

const OUTLINE_VERTEX = `#version 300 es
in vec2 a_device;
uniform vec2 u_canvas;
void main() {
  gl_Position = vec4(2.0 * a_device.x / u_canvas.x - 1.0, 1.0 - 2.0 * a_device.y / u_canvas.y, 0.0, 1.0);
}`;

const OUTLINE_FRAGMENT = `#version 300 es
precision highp float;
uniform vec4 u_color;
out vec4 color;
void main() {
  color = u_color;
}`;

/** Background outside the image and inside it where no tile is loaded yet. */
const BACKGROUND: [number, number, number] = [0.11, 0.11, 0.12];
const IMAGE_BACKGROUND: [number, number, number, number] = [0.16, 0.16, 0.18, 1];
/** Stripes over a tile that failed (RGB 224, 64, 64). */
export const FAILED_COLOR: [number, number, number, number] = [224 / 255, 64 / 255, 64 / 255, 1];

/** Two triangles per [x0, y0, x1, y1] quad: 12 floats each. */
function triangles(quads: Float32Array): Float32Array {
  const n = quads.length / 4;
  const v = new Float32Array(n * 12);
  for (let i = 0; i < n; i++) {
    const x0 = quads[4 * i]!;
    const y0 = quads[4 * i + 1]!;
    const x1 = quads[4 * i + 2]!;
    const y1 = quads[4 * i + 3]!;
    v.set([x0, y0, x1, y0, x0, y1, x0, y1, x1, y0, x1, y1], 12 * i);
  }
  return v;
}

export class Renderer {
  readonly gl: WebGL2RenderingContext;
  private program: WebGLProgram | null = null;
  private vao: WebGLVertexArrayObject | null = null;
  private buffer: WebGLBuffer | null = null;
  private lut: WebGLTexture | null = null;
  private uniforms = new Map<string, WebGLUniformLocation | null>();
  private readonly textures = new Set<WebGLTexture>();
  /** Composite: the channel framebuffer, its texture and the program that adds it. */
  private layerFbo: { fbo: WebGLFramebuffer; texture: WebGLTexture; width: number; height: number } | null = null;
  /** A layer drawn over others: its framebuffer, and whether drawing goes there now. */
  private overFbo: { fbo: WebGLFramebuffer; texture: WebGLTexture; width: number; height: number } | null = null;
  private over = false;
  private compositeProgram: { program: WebGLProgram; vao: WebGLVertexArrayObject; buffer: WebGLBuffer } | null =
    null;
  private outline: {
    program: WebGLProgram;
    vao: WebGLVertexArrayObject;
    buffer: WebGLBuffer;
    canvas: WebGLUniformLocation | null;
    color: WebGLUniformLocation | null;
  } | null = null;

  /** Throws when WebGL2 is not available. */
  constructor(readonly canvas: HTMLCanvasElement) {
    const gl = canvas.getContext("webgl2", {
      alpha: false,
      antialias: false,
      depth: false,
      stencil: false,
      premultipliedAlpha: false,
      // Lets tests read pixels back (toDataURL / readPixels) after a frame.
      preserveDrawingBuffer: true,
    });
    if (gl === null) throw new Error("Renderer: WebGL2 is not available in this browser");
    this.gl = gl;
    this.init();
  }

  /** (Re)create programs and buffers, e.g. after a lost context is restored. */
  init(): void {
    const gl = this.gl;
    this.textures.clear();
    this.uniforms.clear();
    const program = linkProgram(gl, QUAD_VERTEX, FRAGMENT, "Renderer");
    this.program = program;
    this.vao = gl.createVertexArray();
    gl.bindVertexArray(this.vao);
    this.buffer = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buffer);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    const loc = gl.getAttribLocation(program, "a_unit");
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
    gl.bindVertexArray(null);
    this.initOutlines();
    this.initComposite();
    this.layerFbo = this.overFbo = null;
    this.over = false;
    this.lut = this.newTexture();
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, 256, 1, 0, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(1024));
  }

  private initOutlines(): void {
    const gl = this.gl;
    const program = linkProgram(gl, OUTLINE_VERTEX, OUTLINE_FRAGMENT, "Renderer");
    this.outline = {
      program,
      vao: gl.createVertexArray(),
      buffer: gl.createBuffer(),
      canvas: gl.getUniformLocation(program, "u_canvas"),
      color: gl.getUniformLocation(program, "u_color"),
    };
    gl.bindVertexArray(this.outline.vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.outline.buffer);
    const loc = gl.getAttribLocation(program, "a_device");
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
    gl.bindVertexArray(null);
  }

  private initComposite(): void {
    const gl = this.gl;
    const program = linkProgram(gl, COMPOSITE_VERTEX, COMPOSITE_FRAGMENT, "Renderer");
    const vao = gl.createVertexArray();
    const buffer = gl.createBuffer();
    gl.bindVertexArray(vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    const loc = gl.getAttribLocation(program, "a_unit");
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
    gl.bindVertexArray(null);
    this.compositeProgram = { program, vao, buffer };
  }

  /** An offscreen framebuffer the canvas's size, (re)made when the size changed. */
  private screenTarget(
    old: { fbo: WebGLFramebuffer; texture: WebGLTexture; width: number; height: number } | null,
  ): { fbo: WebGLFramebuffer; texture: WebGLTexture; width: number; height: number } {
    const gl = this.gl;
    const { width, height } = this.canvas;
    if (old !== null && old.width === width && old.height === height) return old;
    if (old !== null) {
      gl.deleteFramebuffer(old.fbo);
      gl.deleteTexture(old.texture);
    }
    const texture = this.newTexture();
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    const fbo = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    return { fbo, texture, width, height };
  }

  /** The channel framebuffer, (re)made at the canvas's size. */
  private channelTarget(): WebGLFramebuffer | null {
    this.layerFbo = this.screenTarget(this.layerFbo);
    return this.layerFbo.fbo;
  }

  /** Where passes draw: the canvas, or the layer framebuffer between beginOver and endOver. */
  private output(): WebGLFramebuffer | null {
    return this.over && this.overFbo !== null ? this.overFbo.fbo : null;
  }

  /** The next passes draw one layer into a transparent framebuffer (see the module docs). */
  beginOver(): void {
    const gl = this.gl;
    if (gl.isContextLost()) return;
    this.overFbo = this.screenTarget(this.overFbo);
    this.over = true;
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.overFbo.fbo);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  }

  /** Blend the layer drawn since {@link beginOver} over the canvas with `opacity`. */
  endOver(opacity: number): void {
    const gl = this.gl;
    this.over = false;
    if (gl.isContextLost() || this.overFbo === null) return;
    this.blendScreen(this.overFbo.texture, opacity, true);
  }

  /** Draw a canvas-sized texture onto the output: added (ONE, ONE) or over with `opacity`. */
  private blendScreen(texture: WebGLTexture, opacity: number, over: boolean): void {
    const gl = this.gl;
    const c = this.compositeProgram;
    if (c === null) return;
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.output());
    gl.useProgram(c.program);
    gl.bindVertexArray(c.vao);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.uniform1i(gl.getUniformLocation(c.program, "u_layer"), 0);
    gl.uniform1f(gl.getUniformLocation(c.program, "u_opacity"), opacity);
    gl.enable(gl.BLEND);
    if (over) gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
    else gl.blendFuncSeparate(gl.ONE, gl.ONE, gl.ONE, gl.ONE);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.disable(gl.BLEND);
    gl.bindVertexArray(null);
  }

  private u(name: string): WebGLUniformLocation | null {
    let loc = this.uniforms.get(name);
    if (loc === undefined && this.program !== null) {
      loc = this.gl.getUniformLocation(this.program, name);
      this.uniforms.set(name, loc);
    }
    return loc ?? null;
  }

  private newTexture(): WebGLTexture {
    const gl = this.gl;
    const tex = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, tex);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    return tex;
  }

  /** Upload the colormap: 256 RGBA entries. */
  setColormap(lut: Uint8Array): void {
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, this.lut);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, 256, 1, gl.RGBA, gl.UNSIGNED_BYTE, lut);
  }

  /** Upload a decoded tile as an RGBA8 texture, bytes unchanged. */
  createTexture(bitmap: ImageBitmap): WebGLTexture {
    const gl = this.gl;
    const tex = this.newTexture();
    // WebGL ignores these for ImageBitmap sources: exactness comes from the
    // createImageBitmap options in layer.ts. Kept for any other source type.
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);
    this.textures.add(tex);
    return tex;
  }

  deleteTexture(tex: WebGLTexture): void {
    if (this.textures.delete(tex)) this.gl.deleteTexture(tex);
  }

  /** Set the drawing-buffer size in device pixels. */
  setSize(width: number, height: number): void {
    const w = Math.max(1, Math.round(width));
    const h = Math.max(1, Math.round(height));
    if (this.canvas.width !== w) this.canvas.width = w;
    if (this.canvas.height !== h) this.canvas.height = h;
  }

  /**
   * Start a frame: clear, and fill the image's extent (`extent`, clip space,
   * or null) in a slightly lighter grey, or black for a composite (channels
   * are added onto it).
   */
  beginFrame(extent: [number, number, number, number] | null, composite = false): void {
    const gl = this.gl;
    if (gl.isContextLost() || this.program === null) return;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.disable(gl.BLEND);
    gl.clearColor(BACKGROUND[0], BACKGROUND[1], BACKGROUND[2], 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (extent === null) return;
    gl.useProgram(this.program);
    gl.bindVertexArray(this.vao);
    gl.uniform1i(this.u("u_solid"), 1);
    gl.uniform4fv(this.u("u_color"), composite ? [0, 0, 0, 1] : IMAGE_BACKGROUND);
    gl.uniform4fv(this.u("u_clip"), extent);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    gl.bindVertexArray(null);
  }

  /**
   * Draw one pass of tiles, in order: through the LUT onto the canvas, or,
   * when `display.color` is set, as that colour's ramp into the channel
   * framebuffer, which is then added onto the canvas.
   */
  drawTiles(items: readonly DrawItem[], display: Display): void {
    const gl = this.gl;
    if (gl.isContextLost() || this.program === null) return;
    const color = display.color ?? null;
    if (color !== null) {
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.channelTarget());
      gl.clearColor(0, 0, 0, 0); // tiles write alpha 1: a layer over others shows what is under
      gl.clear(gl.COLOR_BUFFER_BIT);
    } else {
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.output());
    }
    gl.disable(gl.BLEND);
    gl.useProgram(this.program);
    gl.bindVertexArray(this.vao);
    gl.uniform1i(this.u("u_solid"), 0);
    gl.uniform1i(this.u("u_ramp"), color !== null ? 1 : 0);
    gl.uniform3fv(this.u("u_rgb"), color ?? [1, 1, 1]);
    gl.uniform4fv(this.u("u_nan"), display.nan ?? [0, 0, 0, 0]);
    gl.activeTexture(gl.TEXTURE1);
    gl.bindTexture(gl.TEXTURE_2D, this.lut);
    gl.uniform1i(this.u("u_lut"), 1);
    gl.uniform1i(this.u("u_tile"), 0);
    gl.uniform1f(this.u("u_lo"), display.lo);
    gl.uniform1f(this.u("u_hi"), display.hi);
    gl.uniform1f(this.u("u_invgamma"), 1 / (display.gamma > 0 ? display.gamma : 1));
    gl.activeTexture(gl.TEXTURE0);
    for (const item of items) {
      const u16 = item.encoding === "u16";
      gl.bindTexture(gl.TEXTURE_2D, item.texture);
      gl.uniform4fv(this.u("u_clip"), item.clip);
      gl.uniform2i(this.u("u_size"), item.shape[1], item.shape[0]);
      gl.uniform2f(this.u("u_weights"), u16 ? 256 : 1, u16 ? 1 : 0);
      gl.uniform1i(this.u("u_nanflag"), u16 ? 1 : 0);
      gl.uniform1f(this.u("u_offset"), item.valueOffset);
      gl.uniform1f(this.u("u_scale"), item.valueScale);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    }
    gl.bindVertexArray(null);
    if (color !== null && this.layerFbo !== null) this.blendScreen(this.layerFbo.texture, 1, false);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
  }

  /** Stripes of {@link FAILED_COLOR} over the failed tiles (clip-space rectangles). */
  drawFailed(failed: readonly [number, number, number, number][]): void {
    const gl = this.gl;
    if (failed.length === 0 || gl.isContextLost() || this.program === null) return;
    gl.useProgram(this.program);
    gl.bindVertexArray(this.vao);
    gl.uniform1i(this.u("u_solid"), 2);
    gl.uniform4fv(this.u("u_color"), FAILED_COLOR);
    for (const clip of failed) {
      gl.uniform4fv(this.u("u_clip"), clip);
      gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    }
    gl.bindVertexArray(null);
  }

  /** The tile outlines planned by outlines.ts, over everything. */
  drawOutlines(plan: OutlinePlan): void {
    const gl = this.gl;
    const o = this.outline;
    if (o === null || plan.runs.length === 0) return;
    gl.useProgram(o.program);
    gl.bindVertexArray(o.vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, o.buffer);
    gl.bufferData(gl.ARRAY_BUFFER, triangles(plan.quads), gl.STREAM_DRAW);
    gl.uniform2f(o.canvas, this.canvas.width, this.canvas.height);
    for (const run of plan.runs) {
      gl.uniform4f(o.color, run.color[0] / 255, run.color[1] / 255, run.color[2] / 255, 1);
      gl.drawArrays(gl.TRIANGLES, run.first * 6, run.count * 6);
    }
    gl.bindVertexArray(null);
  }

  /** Free every GL resource this renderer created and release the context. */
  dispose(): void {
    const gl = this.gl;
    for (const tex of this.textures) gl.deleteTexture(tex);
    this.textures.clear();
    if (this.lut !== null) gl.deleteTexture(this.lut);
    if (this.buffer !== null) gl.deleteBuffer(this.buffer);
    if (this.vao !== null) gl.deleteVertexArray(this.vao);
    if (this.program !== null) gl.deleteProgram(this.program);
    this.lut = this.buffer = this.vao = this.program = null;
    for (const target of [this.layerFbo, this.overFbo]) {
      if (target === null) continue;
      gl.deleteFramebuffer(target.fbo);
      gl.deleteTexture(target.texture);
    }
    this.layerFbo = this.overFbo = null;
    if (this.compositeProgram !== null) {
      gl.deleteBuffer(this.compositeProgram.buffer);
      gl.deleteVertexArray(this.compositeProgram.vao);
      gl.deleteProgram(this.compositeProgram.program);
      this.compositeProgram = null;
    }
    if (this.outline !== null) {
      gl.deleteBuffer(this.outline.buffer);
      gl.deleteVertexArray(this.outline.vao);
      gl.deleteProgram(this.outline.program);
      this.outline = null;
    }
    gl.getExtension("WEBGL_lose_context")?.loseContext();
  }
}
