import { type Color, type Routes, type Weights, otherColor } from '@mlbg/contract';

// The routes' shapes and how they read are the contract's (the dashboard's page shows them too).
export { Routes, Weights, describeWeights, mainTarget, soleTarget } from '@mlbg/contract';

/** All of a route's traffic to one color. */
export function allTo(color: Color): Weights {
  return color === 'blue' ? { blue: 100, green: 0 } : { blue: 0, green: 100 };
}

/** The blue-green routes with `live` serving all live traffic and the other color on preview. */
export function routesWithLive(live: Color): Routes {
  return { live: allTo(live), preview: allTo(otherColor(live)) };
}
