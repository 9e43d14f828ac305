// One of four files run by two workers at once (see isolation.ts).
import { isolationTests } from "./isolation";

isolationTests("c");
