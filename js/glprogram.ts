/**
 * Shader programs, one way for the whole front end (js/renderer.ts, js/labels.ts).
 *
 * `linkProgram` compiles and links a vertex and a fragment shader and throws
 * an error naming its owner and the driver's log when either fails (but not
 * while the context is lost: the caller rebuilds on restore). `a_unit`, the
 * unit-square corner every quad program reads, is bound to location 0.
 */

/** A tile quad: the unit square mapped onto `u_clip` ([x0, y0, x1, y1] in clip space). */
export const QUAD_VERTEX = `#version 300 es
in vec2 a_unit;
uniform vec4 u_clip;
out vec2 v_uv;
void main() {
  v_uv = a_unit;
  gl_Position = vec4(mix(u_clip.xy, u_clip.zw, a_unit), 0.0, 1.0);
}`;

function compileShader(gl: WebGL2RenderingContext, type: number, source: string, owner: string): WebGLShader {
  const shader = gl.createShader(type);
  if (shader === null) throw new Error(`${owner}: gl.createShader() failed`);
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS) && !gl.isContextLost()) {
    const log = gl.getShaderInfoLog(shader);
    gl.deleteShader(shader);
    throw new Error(`${owner}: shader compilation failed: ${log ?? "?"}`);
  }
  return shader;
}

export function linkProgram(gl: WebGL2RenderingContext, vertex: string, fragment: string, owner: string): WebGLProgram {
  const vs = compileShader(gl, gl.VERTEX_SHADER, vertex, owner);
  const fs = compileShader(gl, gl.FRAGMENT_SHADER, fragment, owner);
  const program = gl.createProgram();
  gl.attachShader(program, vs);
  gl.attachShader(program, fs);
  gl.bindAttribLocation(program, 0, "a_unit");
  gl.linkProgram(program);
  gl.deleteShader(vs);
  gl.deleteShader(fs);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS) && !gl.isContextLost()) {
    throw new Error(`${owner}: program link failed: ${gl.getProgramInfoLog(program) ?? "?"}`);
  }
  return program;
}
