// Target descriptions (cores and boards). To be filled in.
#pragma once
