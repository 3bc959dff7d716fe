/** Public entry of the collections package: the start function (for the platform runner and tests). */
export { configShape, startCollections } from "./main";
