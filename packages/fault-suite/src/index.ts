export * from "./book";
export * from "./effects";
export * from "./kafka";
export * from "./observe";
export * from "./results";
export * from "./run";
export * from "./scenario";
export * from "./pending";
