/** The benchmark page's SVG charts, written by hand so the page needs no plotting dependency. */
import { fmt } from "./Format.ts"

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
const palette = ["#2563eb", "#dc2626", "#9ca3af", "#16a34a", "#9333ea"]

/** The shared canvas of every chart: 640×320, a bold title, a plot area left/top/bottom of the margins. */
const canvas = { width: 640, height: 320, left: 70, top: 40, bottom: 50 }
const plot = { h: canvas.height - canvas.top - canvas.bottom, w: canvas.width - canvas.left - 20 }
const titled = (title: string) => [
  `<text x="${canvas.width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`
]

/** Grouped bars: one group per category, one bar per series. */
export const barChart = (
  title: string,
  unit: string,
  categories: ReadonlyArray<string>,
  series: ReadonlyArray<{ readonly name: string; readonly values: ReadonlyArray<number | null> }>
): string => {
  const { height, left, top, width } = canvas
  const { h: plotH, w: plotW } = plot
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v ?? 0))) * 1.1
  const groupW = plotW / categories.length
  const barW = (groupW * 0.7) / series.length
  const parts = titled(title)
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4
    const y = top + plotH - (plotH * i) / 4
    parts.push(`<line x1="${left}" x2="${width - 20}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`)
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${fmt(v)}</text>`)
  }
  parts.push(
    `<text x="14" y="${top + plotH / 2}" font-size="11" transform="rotate(-90 14 ${
      top + plotH / 2
    })" text-anchor="middle">${escape(unit)}</text>`
  )
  categories.forEach((category, c) => {
    const x0 = left + c * groupW + groupW * 0.15
    series.forEach((s, k) => {
      const v = s.values[c]
      if (v === null || v === undefined) return
      const h = (plotH * v) / max
      const x = x0 + k * barW
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${
          h.toFixed(1)
        }" fill="${palette[k % palette.length]}"/>`
      )
      parts.push(
        `<text x="${(x + barW / 2).toFixed(1)}" y="${
          (top + plotH - h - 4).toFixed(1)
        }" text-anchor="middle" font-size="10">${fmt(v)}</text>`
      )
    })
    parts.push(
      `<text x="${(left + c * groupW + groupW / 2).toFixed(1)}" y="${
        top + plotH + 18
      }" text-anchor="middle" font-size="12">${escape(category)}</text>`
    )
  })
  series.forEach((s, k) => {
    const x = left + k * 170
    parts.push(`<rect x="${x}" y="${height - 18}" width="12" height="12" fill="${palette[k % palette.length]}"/>`)
    parts.push(`<text x="${x + 16}" y="${height - 8}" font-size="12">${escape(s.name)}</text>`)
  })
  return svg(width, height, parts)
}

/** Cumulative distributions (x: value, y: share of samples at or below it). */
export const cdfChart = (
  title: string,
  unit: string,
  series: ReadonlyArray<{ readonly name: string; readonly values: ReadonlyArray<number> }>
) => {
  const { height, left, top, width } = canvas
  const { h: plotH, w: plotW } = plot
  const sortedAll = series.flatMap((s) => s.values).sort((a, b) => a - b)
  // The 99th percentile bounds the axis, so one outlier does not flatten the curves.
  const max = Math.max(1e-3, sortedAll[Math.floor(sortedAll.length * 0.99)] ?? 1) * 1.1
  const parts = titled(title)
  for (let i = 0; i <= 4; i++) {
    const x = left + (plotW * i) / 4
    const y = top + plotH - (plotH * i) / 4
    parts.push(`<line x1="${left}" x2="${width - 20}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`)
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${i * 25}%</text>`)
    parts.push(
      `<text x="${x}" y="${top + plotH + 16}" text-anchor="middle" font-size="11">${fmt((max * i) / 4, 1)}</text>`
    )
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${top + plotH + 34}" text-anchor="middle" font-size="12">${escape(unit)}</text>`
  )
  series.forEach((s, k) => {
    const sorted = [...s.values].sort((a, b) => a - b)
    const points = sorted.map((v, i) => {
      const x = left + (plotW * Math.min(v, max)) / max
      const y = top + plotH - (plotH * (i + 1)) / sorted.length
      return `${x.toFixed(1)},${y.toFixed(1)}`
    })
    parts.push(
      `<polyline fill="none" stroke="${palette[k % palette.length]}" stroke-width="2" points="${points.join(" ")}"/>`
    )
    const lx = left + k * 190
    parts.push(`<rect x="${lx}" y="${height - 14}" width="12" height="12" fill="${palette[k % palette.length]}"/>`)
    parts.push(`<text x="${lx + 16}" y="${height - 4}" font-size="12">${escape(s.name)}</text>`)
  })
  return svg(width, height, parts)
}

const svg = (width: number, height: number, parts: ReadonlyArray<string>) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
  `font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>\n${parts.join("\n")}\n</svg>\n`
